local etl = require("etl")
expect.eq(etl.name, "spec")
expect.eq(etl.args.since, "2024-01-01")
expect.eq(etl.arg("since"), "2024-01-01")
expect.eq(etl.arg("missing", "dflt"), "dflt")
expect.eq(etl.arg("missing"), nil)
expect.eq(etl.dry_run, nil) -- a script cannot tell a dry run from a commit
local left = etl.deadline()
expect.truthy(left > 0 and left <= 60, "deadline within the minute: " .. left)
