-- A statement cut short: "unexpected symbol near <eof>" on line 3.
x =
