-- Reading a field of a field that is not there: name the nil expression.
local bill = {number = "INV/2024/0001"}
print(bill.number)
return bill.partner.name --> bill.partner is nil (reading bill.partner.name) (Lua said: attempt to index a non-table object(nil) with key 'name')
