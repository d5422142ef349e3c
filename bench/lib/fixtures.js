'use strict';
// The data every system is fed: the same texts, vectors and messages, made
// from a fixed seed so that runs are comparable.

const { seeded } = require('./seeded');

const DIMENSIONS = 1536;
/** Distinct vectors cycled through; generating one per write would time the RNG, not the cache. */
const VECTOR_POOL = 64;
const MESSAGE_BYTES = 400;
const CONVERSATION_LENGTH = 50;

const random = seeded(20240601);

/** Random float32 values (exactly representable, so float32 storage is lossless), as number[]. */
const VECTORS = Array.from({ length: VECTOR_POOL }, () =>
  Array.from({ length: DIMENSIONS }, () => Math.fround(random() * 2 - 1)),
);

function vectorFor(i) {
  return VECTORS[i % VECTOR_POOL];
}

/** A text the size of a typical retrieval chunk header; unique per i. */
function text(i) {
  return `Benchmark corpus chunk #${i}: the quick brown fox jumps over the lazy dog while the cache keeps its vector.`;
}

const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore'.split(
  ' ',
);

function prose(bytes) {
  let out = '';
  while (out.length < bytes) out += WORDS[Math.floor(random() * WORDS.length)] + ' ';
  return out.slice(0, bytes);
}

/** A chat message of about MESSAGE_BYTES bytes of JSON: {id, role, content}. */
function message(id, role) {
  const shell = JSON.stringify({ id, role, content: '' }).length;
  return { id, role, content: prose(MESSAGE_BYTES - shell) };
}

const CONVERSATION = Array.from({ length: CONVERSATION_LENGTH }, (_, i) =>
  message(`m${i}`, i % 2 === 0 ? 'user' : 'assistant'),
);

module.exports = { CONVERSATION, CONVERSATION_LENGTH, DIMENSIONS, MESSAGE_BYTES, message, text, vectorFor };
