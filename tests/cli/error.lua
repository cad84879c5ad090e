-- Fails at run time on line 3, after printing one line.
print("before")
error("boom")
