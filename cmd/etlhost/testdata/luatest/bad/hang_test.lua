function TestFirst(t) end

function TestHangs(t)
  while true do end
end

function TestNeverRuns(t) end
