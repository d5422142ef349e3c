'use strict';
// What the workers write, made so that every value read back says what it is: a vector names its worker, user,
// text and version in its first elements, and the rest follows from them; a message names its conversation and
// sequence number in its id, and its content follows from them. So a read is checked by regenerating, with no
// copy of what was written kept anywhere.

const DIMENSIONS = 64;

/** Element `i` of a vector's pattern: a multiple of 1/256 within ±4, exact in float32 as in float64. */
function patternElement(version, i) {
  return ((((Math.imul(version, 0x9e3779b1) ^ Math.imul(i, 0x85ebca6b)) >>> 0) % 2048) - 1024) / 256;
}

/** The vector of version `version` of (worker, user, text), all small integers. */
function vectorFor(worker, user, text, version) {
  const vector = [worker, user, text, version];
  for (let i = vector.length; i < DIMENSIONS; i++) vector.push(patternElement(version, i));
  return vector;
}

/** Whose a vector read back is, and whether it is whole: every element what `vectorFor` makes of its header. */
function readVector(vector) {
  const [worker, user, text, version] = vector;
  let intact = vector.length === DIMENSIONS && [worker, user, text, version].every(Number.isSafeInteger);
  for (let i = 4; intact && i < DIMENSIONS; i++) intact = vector[i] === patternElement(version, i);
  return { worker, user, text, version, intact };
}

/** Text to cut message contents from: multi-byte characters, quotes, backslashes and line breaks included. */
const CORPUS = (
  'The quick brown fox jumps over the lazy dog. Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich. ' +
  'Portez ce vieux whisky au juge blond qui fume 😀 — «quoted» "double" \'single\' back\\slash, tab\tand\nnewline. ' +
  'Съешь же ещё этих мягких французских булок, да выпей чаю. 色は匂へど散りぬるを 我が世誰ぞ常ならむ. '
).repeat(8);

const mix = (a, b) => (Math.imul(a ^ 0x27d4eb2d, 0x165667b1) + Math.imul(b, 0x2c1b3c6d)) >>> 0;

/** Message `seq` of a conversation: an id, a role, and 10 to 609 characters of content. */
function messageFor(conversationId, seq) {
  const length = 10 + (mix(seq, 1) % 600);
  const offset = mix(seq, 2) % (CORPUS.length - length);
  return {
    id: `${conversationId}#${seq}`,
    role: seq % 3 === 0 ? 'assistant' : 'user',
    content: CORPUS.slice(offset, offset + length),
    seq,
  };
}

/** The sequence number of a message read back from `conversationId`, or null if it is not one of its messages. */
function messageSeq(conversationId, message) {
  const seq = message?.seq;
  if (!Number.isSafeInteger(seq) || message.id !== `${conversationId}#${seq}`) return null;
  return JSON.stringify(message) === JSON.stringify(messageFor(conversationId, seq)) ? seq : null;
}

module.exports = { DIMENSIONS, messageFor, messageSeq, readVector, vectorFor };
