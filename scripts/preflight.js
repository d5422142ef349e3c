'use strict';
// First step of `npm test`: stops within a second, naming every missing prerequisite,
// instead of failing minutes later in the suite that needs it.
const { describeMissing, missingPrerequisites } = require('./prerequisites');

const missing = missingPrerequisites();
if (missing.length > 0) {
  console.error(describeMissing(missing));
  process.exit(1);
}
