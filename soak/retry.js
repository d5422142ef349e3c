'use strict';
// A Redis call that a fault makes fail for a while, retried: a DEL sent to a cluster master that says
// CLUSTERDOWN while it rejoins, or to a server still loading its keys after a restart.

const { setTimeout: sleep } = require('node:timers/promises');

const RETRY_FOR_MS = 30_000;
const RETRY_EVERY_MS = 20;

/** `call()`'s result, once a call is not refused with an error reply; the last error after RETRY_FOR_MS. */
async function retried(call) {
  const until = Date.now() + RETRY_FOR_MS;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (error?.name !== 'ReplyError' || Date.now() > until) throw error;
      await sleep(RETRY_EVERY_MS);
    }
  }
}

module.exports = { retried };
