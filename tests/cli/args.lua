-- Prints what a script receives: its `...` and the global `arg` table.
print("... = " .. table.concat({ ... }, "\t"))
print("#arg = " .. #arg)
for i = -2, #arg do
  print(("arg[%d] = %s"):format(i, tostring(arg[i])))
end
