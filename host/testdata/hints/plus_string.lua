-- `+` adds numbers only; `..` joins strings.
local n = 3
print("n is " + n) --> `..` joins strings: "n is " .. n (Lua said: cannot perform add operation between string and number)
