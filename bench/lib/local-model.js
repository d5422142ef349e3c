'use strict';
// The demo's local language model (src/chat/local-language-model.ts), as `npm run build` compiles it: the bench
// times the response cache on the model POST /chat answers with. Each model here counts its calls and, once
// `hitsOnly` is set, refuses them: a case that must be answered from the cache fails if it ever reaches the model.

const { existsSync } = require('node:fs');
const { join } = require('node:path');

const BUILT = join(__dirname, '..', '..', 'dist', 'chat', 'local-language-model.js');

function loadLocalLanguageModel() {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npm run build\` first (npm run bench does)`);
  return require(BUILT).LocalLanguageModel;
}

const LocalLanguageModel = loadLocalLanguageModel();

class CountedModel extends LocalLanguageModel {
  constructor(options) {
    super(options);
    this.calls = 0;
    this.hitsOnly = false;
  }

  guard() {
    if (this.hitsOnly) throw new Error('the model was called in a case that only hits');
    this.calls++;
  }

  async doGenerate(options) {
    this.guard();
    return super.doGenerate(options);
  }

  async doStream(options) {
    this.guard();
    return super.doStream(options);
  }
}

module.exports = { CountedModel };
