'use strict';
// The floors of `npm run bench:http`, each a child process of run.js that
// answers one GET route with the body of GET /health/live:
//
//   node bench/http/floors.js node <port>   bare Node.js http: no framework at all
//   node bench/http/floors.js nest <port>   a bare Nest app on the demo's platform
//                                           (@nestjs/platform-express), one route, no
//                                           middleware (no body parsers), no logger
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

async function bareNest(port) {
  require('reflect-metadata');
  const { Controller, Get, Module } = require('@nestjs/common');
  const { NestFactory } = require('@nestjs/core');

  class FloorController {
    floor() {
      return BODY;
    }
  }
  const descriptor = Object.getOwnPropertyDescriptor(FloorController.prototype, 'floor');
  Reflect.decorate([Get()], FloorController.prototype, 'floor', descriptor);
  Reflect.decorate([Controller(PATH.slice(1))], FloorController);
  class FloorModule {}
  Reflect.decorate([Module({ controllers: [FloorController] })], FloorModule);

  const app = await NestFactory.create(FloorModule, { logger: false, bodyParser: false });
  app.getHttpAdapter().getInstance().disable('x-powered-by');
  await app.listen(port, '127.0.0.1');
}

const [kind, port] = process.argv.slice(2);
const start = { node: bareNode, nest: bareNest }[kind];
if (!start || !Number(port)) {
  console.error('usage: node bench/http/floors.js node|nest <port>');
  process.exit(2);
}
start(Number(port)).then(
  () => console.log('listening'),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
