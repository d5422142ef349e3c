import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { storage } from 'nestjs-pino/storage';
import { pinoHttp } from 'pino-http';
import { requestLogging } from './request-logging';

function setUp(level: string) {
  const lines: Record<string, unknown>[] = [];
  const destination = new PassThrough();
  destination.on('data', (chunk: Buffer) =>
    lines.push(
      ...chunk
        .toString()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line)),
    ),
  );
  const http = pinoHttp({ level, redact: { paths: ['req.headers.authorization'], censor: '***' } }, destination);
  const request = new IncomingMessage(new Socket());
  Object.assign(request, { method: 'GET', url: '/things?x=1', headers: { authorization: 'Bearer secret' } });
  return { lines, http, request, response: new ServerResponse(request), child: jest.spyOn(http.logger, 'child') };
}

/** Runs the middleware, then `inRequest` where the route handler would run. */
function handle(setup: ReturnType<typeof setUp>, inRequest: () => void): Promise<void> {
  return new Promise((resolve) =>
    requestLogging(setup.http)(setup.request, setup.response, () => {
      inRequest();
      resolve();
    }),
  );
}

describe('requestLogging', () => {
  it('at warn, binds no logger to a request until a line is written in it, then the one pino-http binds', async () => {
    const setup = setUp('warn');
    await handle(setup, () => {
      const logger = storage.getStore()!.logger;
      logger.info('dropped');
      logger.debug('dropped');
      expect(setup.child).not.toHaveBeenCalled();
      logger.warn('kept');
      logger.error({ detail: 1 }, 'kept too');
    });
    setup.response.end();

    expect(setup.child).toHaveBeenCalledTimes(1);
    const req = { method: 'GET', url: '/things?x=1', headers: { authorization: '***' } };
    expect(setup.lines).toEqual([
      expect.objectContaining({ level: 40, msg: 'kept', req: expect.objectContaining(req) }),
      expect.objectContaining({ level: 50, msg: 'kept too', detail: 1, req: expect.objectContaining(req) }),
    ]);
    expect(typeof (setup.lines[0].req as { id: unknown }).id).toBe('number');
  });

  it('at warn, writes nothing for a request that logs nothing', async () => {
    const setup = setUp('warn');
    await handle(setup, () => undefined);
    setup.response.end();
    setup.response.emit('finish');
    expect(setup.child).not.toHaveBeenCalled();
    expect(setup.lines).toEqual([]);
  });

  it('at info, is pino-http: the request bound at once, and a line when the response is done', async () => {
    const setup = setUp('info');
    await handle(setup, () => storage.getStore()!.logger.info('inside'));
    setup.response.end();
    // without a socket the response never finishes by itself
    setup.response.emit('finish');

    expect(setup.lines.map((line) => line.msg)).toEqual(['inside', 'request completed']);
    for (const line of setup.lines) {
      expect(line).toMatchObject({
        level: 30,
        req: { method: 'GET', url: '/things?x=1', headers: { authorization: '***' } },
      });
    }
  });
});
