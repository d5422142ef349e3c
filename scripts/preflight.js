'use strict';
// First step of `npm test` (and, with `docs`, of `npm run test:docs`): stops within a second, naming every
// missing prerequisite, instead of failing minutes later in the suite that needs it.
const { describeMissing, docsPythonProblem, missingPrerequisites, unsupportedNode } = require('./prerequisites');

function problems(suite) {
  const node = unsupportedNode(suite === 'docs' ? 'npm run test:docs' : 'npm test');
  if (suite === 'docs') return [node, docsPythonProblem()].filter(Boolean);
  const missing = missingPrerequisites();
  return [node, missing.length > 0 ? describeMissing(missing) : undefined].filter(Boolean);
}

const found = problems(process.argv[2]);
if (found.length > 0) {
  console.error(found.join('\n'));
  process.exit(1);
}
