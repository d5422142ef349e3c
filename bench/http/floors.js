'use strict';
// The floors of `npm run bench:http`, each a child process of run.js that
// answers one GET route with the body of GET /health/live:
//
//   node bench/http/floors.js node <port>   bare Node.js http: no framework at all
//   node bench/http/floors.js nest <port>   a bare Nest app on the demo's platform
//                                           (@nestjs/platform-express), one route, no
//                                           middleware (no body parsers), no logger
//   node bench/http/floors.js nest-redis <port> <redis port>
//                                           the same bare Nest app with Nest's default
//                                           body parsers and one ioredis client, answering
//                                           what the demo's cached reads answer with the
//                                           least work that can give it: a list of 50
//                                           messages as the JSON text LRANGE returns, and
//                                           a 1536-d float32 vector from a GET, as base64
//                                           or as a JSON array of numbers (float)
//   node bench/http/floors.js nest-fastify <port>
//   node bench/http/floors.js nest-fastify-redis <port> <redis port>
//                                           the same two apps on @nestjs/platform-fastify
//                                           (a bench dependency, with Nest of the demo's
//                                           version), to tell what switching the demo's
//                                           platform would change
//
// It prints `listening` once it accepts connections.

const http = require('node:http');
const { createRequire } = require('node:module');
const { join } = require('node:path');

/**
 * Each platform's Nest: the demo's own packages for Express, the bench's for Fastify (bench/package.json).
 * Resolved from each package root, so that the two never mix copies of @nestjs/core.
 */
const PLATFORMS = {
  express: { require: createRequire(join(__dirname, '..', '..', 'package.json')), adapter: () => undefined },
  fastify: {
    require: createRequire(join(__dirname, '..', 'package.json')),
    adapter() {
      const { FastifyAdapter } = this.require('@nestjs/platform-fastify');
      return new FastifyAdapter();
    },
  },
};

const BODY = { status: 'ok', info: {}, error: {}, details: {} };
const PATH = '/floor';

async function bareNode(port) {
  const body = JSON.stringify(BODY);
  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== PATH) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
    response.end(body);
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
}

/**
 * Listens with a Nest app on `platform`, without a logger, made of one
 * controller under PATH: `routes` gives the decorators of each of its methods.
 */
async function listenNest(platform, port, controller, routes, appOptions = {}) {
  const { Controller, Module } = platform.require('@nestjs/common');
  const { NestFactory } = platform.require('@nestjs/core');
  for (const [name, decorators] of Object.entries(routes)) {
    const descriptor = Object.getOwnPropertyDescriptor(controller.prototype, name);
    Reflect.decorate(decorators, controller.prototype, name, descriptor);
  }
  Reflect.decorate([Controller(PATH.slice(1))], controller);
  class FloorModule {}
  Reflect.decorate([Module({ controllers: [controller] })], FloorModule);

  const adapter = platform.adapter();
  const options = { logger: false, ...appOptions };
  const app = await (adapter
    ? NestFactory.create(FloorModule, adapter, options)
    : NestFactory.create(FloorModule, options));
  // Express announces itself in a header; Fastify does not
  if (!adapter) app.getHttpAdapter().getInstance().disable('x-powered-by');
  await app.listen(port, '127.0.0.1');
}

async function bareNest(platform, port) {
  platform.require('reflect-metadata');
  const { Get } = platform.require('@nestjs/common');

  class FloorController {
    floor() {
      return BODY;
    }
  }
  await listenNest(platform, port, FloorController, { floor: [Get()] }, { bodyParser: false });
}

/** What the demo's cached cases read: the bench's own fill gives them the same sizes. */
const CONVERSATION_KEY = 'ceiling:conversation';
const VECTOR_KEY = 'ceiling:vector';

async function bareNestRedis(platform, port, redisPort) {
  platform.require('reflect-metadata');
  const { Body, Get, HttpCode, Post, Res } = platform.require('@nestjs/common');
  const { Redis } = PLATFORMS.express.require('ioredis');
  const redis = new Redis(redisPort, '127.0.0.1');
  const content = 'x'.repeat(Number(process.env.MESSAGE_BYTES));
  const messages = Array.from({ length: Number(process.env.MESSAGES) }, (_, i) =>
    JSON.stringify({ id: i + 1, role: i % 2 ? 'assistant' : 'user', content }),
  );
  await redis.del(CONVERSATION_KEY);
  await redis.rpush(CONVERSATION_KEY, ...messages);
  // the demo's cached vector (bench/http/run.js), so that the float answer has the same digits
  const vector = Float32Array.from({ length: Number(process.env.DIMENSIONS) }, (_, i) => Math.sin(i));
  await redis.set(VECTOR_KEY, Buffer.from(vector.buffer));

  class CeilingController {
    async conversation(response) {
      const list = await redis.lrange(CONVERSATION_KEY, 0, -1);
      // the same two calls on an Express response and a Fastify reply
      response.type('application/json; charset=utf-8').send(`{"messages":[${list.join(',')}]}`);
    }
    async lookup(body) {
      if (typeof body?.text !== 'string') throw new Error('no text');
      return { embedding: (await redis.getBuffer(VECTOR_KEY)).toString('base64') };
    }
    async lookupFloat(body) {
      if (typeof body?.text !== 'string') throw new Error('no text');
      const bytes = await redis.getBuffer(VECTOR_KEY);
      // a Float32Array needs an offset that is a multiple of 4; a reply's Buffer may sit anywhere in its pool
      const aligned = bytes.byteOffset % 4 === 0 ? bytes : Buffer.from(bytes);
      const view = new Float32Array(aligned.buffer, aligned.byteOffset, aligned.length / 4);
      // an indexed loop, as the library decodes (docs/benchmarks.md, "Vector decoding")
      const embedding = new Array(view.length);
      for (let i = 0; i < view.length; i++) embedding[i] = view[i];
      return { embedding };
    }
  }
  Res()(CeilingController.prototype, 'conversation', 0);
  Body()(CeilingController.prototype, 'lookup', 0);
  Body()(CeilingController.prototype, 'lookupFloat', 0);
  await listenNest(platform, port, CeilingController, {
    conversation: [Get('conversation')],
    lookup: [Post('lookup'), HttpCode(200)],
    lookupFloat: [Post('lookup-float'), HttpCode(200)],
  });
}

const KINDS = {
  node: (port) => bareNode(port),
  nest: (port) => bareNest(PLATFORMS.express, port),
  'nest-redis': (port, redisPort) => bareNestRedis(PLATFORMS.express, port, redisPort),
  'nest-fastify': (port) => bareNest(PLATFORMS.fastify, port),
  'nest-fastify-redis': (port, redisPort) => bareNestRedis(PLATFORMS.fastify, port, redisPort),
};
const [kind, port, redisPort] = process.argv.slice(2);
const start = KINDS[kind];
if (!start || !Number(port)) {
  console.error(
    'usage: node bench/http/floors.js node|nest|nest-fastify <port>, or nest-redis|nest-fastify-redis <port> <redis port>',
  );
  process.exit(2);
}
start(Number(port), Number(redisPort)).then(
  () => console.log('listening'),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
