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
//                                           a 1536-d float32 vector as base64 from a GET
//
// It prints `listening` once it accepts connections.

const http = require('node:http');

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
 * Listens with a Nest app on the demo's platform, without a logger, made of one
 * controller under PATH: `routes` gives the decorators of each of its methods.
 */
async function listenNest(port, controller, routes, appOptions = {}) {
  const { Controller, Module } = require('@nestjs/common');
  const { NestFactory } = require('@nestjs/core');
  for (const [name, decorators] of Object.entries(routes)) {
    const descriptor = Object.getOwnPropertyDescriptor(controller.prototype, name);
    Reflect.decorate(decorators, controller.prototype, name, descriptor);
  }
  Reflect.decorate([Controller(PATH.slice(1))], controller);
  class FloorModule {}
  Reflect.decorate([Module({ controllers: [controller] })], FloorModule);

  const app = await NestFactory.create(FloorModule, { logger: false, ...appOptions });
  app.getHttpAdapter().getInstance().disable('x-powered-by');
  await app.listen(port, '127.0.0.1');
}

async function bareNest(port) {
  require('reflect-metadata');
  const { Get } = require('@nestjs/common');

  class FloorController {
    floor() {
      return BODY;
    }
  }
  await listenNest(port, FloorController, { floor: [Get()] }, { bodyParser: false });
}

/** What the demo's cached cases read: the bench's own fill gives them the same sizes. */
const CONVERSATION_KEY = 'ceiling:conversation';
const VECTOR_KEY = 'ceiling:vector';

async function bareNestRedis(port, redisPort) {
  require('reflect-metadata');
  const { Body, Get, HttpCode, Post, Res } = require('@nestjs/common');
  const { Redis } = require('ioredis');
  const redis = new Redis(redisPort, '127.0.0.1');
  const content = 'x'.repeat(Number(process.env.MESSAGE_BYTES));
  const messages = Array.from({ length: Number(process.env.MESSAGES) }, (_, i) =>
    JSON.stringify({ id: i + 1, role: i % 2 ? 'assistant' : 'user', content }),
  );
  await redis.del(CONVERSATION_KEY);
  await redis.rpush(CONVERSATION_KEY, ...messages);
  await redis.set(VECTOR_KEY, Buffer.alloc(Number(process.env.DIMENSIONS) * 4, 7));

  class CeilingController {
    async conversation(response) {
      const list = await redis.lrange(CONVERSATION_KEY, 0, -1);
      response.type('json').send(`{"messages":[${list.join(',')}]}`);
    }
    async lookup(body) {
      if (typeof body?.text !== 'string') throw new Error('no text');
      return { embedding: (await redis.getBuffer(VECTOR_KEY)).toString('base64') };
    }
  }
  Res()(CeilingController.prototype, 'conversation', 0);
  Body()(CeilingController.prototype, 'lookup', 0);
  await listenNest(port, CeilingController, {
    conversation: [Get('conversation')],
    lookup: [Post('lookup'), HttpCode(200)],
  });
}

const [kind, port, redisPort] = process.argv.slice(2);
const start = { node: bareNode, nest: bareNest, 'nest-redis': bareNestRedis }[kind];
if (!start || !Number(port)) {
  console.error('usage: node bench/http/floors.js node|nest <port>, or nest-redis <port> <redis port>');
  process.exit(2);
}
start(Number(port), Number(redisPort)).then(
  () => console.log('listening'),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
