/** Three projects: unit specs beside the code, library integration specs on real Redis, and e2e specs. */
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@wbot/redis-cache$': '<rootDir>/libs/redis-cache/src',
    '^@wbot/redis-cache/client$': '<rootDir>/libs/redis-cache/src/client',
    '^@wbot/redis-cache/ai-sdk$': '<rootDir>/libs/redis-cache/src/ai-sdk',
    '^@wbot/redis-cache/langchain$': '<rootDir>/libs/redis-cache/src/langchain',
  },
  rootDir: __dirname,
  // once-per-file hooks start real servers: 60 s unless they name a timeout (test/support/setup-hook-timeouts.ts)
  setupFilesAfterEnv: ['<rootDir>/test/support/setup-hook-timeouts.ts'],
};

module.exports = {
  // The registry of the redis-server processes the run starts; the teardown kills any a test left running, and fails
  // a run that some other handle still holds open 10 s later instead of letting it wait for ever (server-registry.ts)
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/libs/redis-cache/src/**/*.spec.ts',
        '<rootDir>/src/**/*.spec.ts',
        '<rootDir>/scripts/**/*.spec.ts',
        '<rootDir>/bench/lib/*.spec.ts',
      ],
    },
    { ...shared, displayName: 'integration', testMatch: ['<rootDir>/libs/redis-cache/test/**/*.spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
    // real redis-server processes killed, frozen and restarted under load (docs/reliability.md)
    { ...shared, displayName: 'faults', testMatch: ['<rootDir>/test/faults/**/*.spec.ts'] },
    // ioredis 5, which apps may still run on: the specs that depend on its behaviour most, on it instead of 6
    {
      ...shared,
      displayName: 'ioredis5',
      moduleNameMapper: {
        ...shared.moduleNameMapper,
        '^ioredis$': '<rootDir>/node_modules/ioredis5',
        '^ioredis/package.json$': '<rootDir>/node_modules/ioredis5/package.json',
      },
      testMatch: [
        '<rootDir>/libs/redis-cache/src/connections/connection-readiness.spec.ts',
        '<rootDir>/libs/redis-cache/test/module/{first-call,redis-cache.module,redis-cache.module-topologies}.spec.ts',
        '<rootDir>/libs/redis-cache/test/connections/sentinel.spec.ts',
        '<rootDir>/libs/redis-cache/test/embeddings/embedding-cache.spec.ts',
        // the near cache's subscriber: RESP2's subscriber mode on ioredis 5, RESP3 push messages on 6
        '<rootDir>/libs/redis-cache/test/embeddings/{near-cache,near-cache-channel}.spec.ts',
        '<rootDir>/libs/redis-cache/test/messages/message-cache.spec.ts',
        // a read's commands arm no commandTimeout timer: ioredis's Command#setTimeout, on either major
        '<rootDir>/libs/redis-cache/test/{connections/untimed-commands,messages/frozen-reads}.spec.ts',
        // XREAD's reply is pairs on ioredis 5, a flattened map on 6 (RESP3)
        '<rootDir>/libs/redis-cache/test/responses/response-cache.spec.ts',
        '<rootDir>/test/faults/client-kill.spec.ts',
        '<rootDir>/libs/redis-cache/test/**/*.ioredis5-spec.ts',
      ],
    },
    // ai 7 (the repo's own `ai` is 6, the other major the middleware supports): the AI SDK middleware's specs on it. Its
    // packages, and the zod locale they import by path, are ES modules only: ts-jest compiles them to CommonJS.
    {
      ...shared,
      displayName: 'ai7',
      moduleNameMapper: {
        ...shared.moduleNameMapper,
        '^ai$': '<rootDir>/node_modules/ai7',
        '^ai/test$': '<rootDir>/node_modules/ai7/dist/test',
      },
      transform: {
        ...shared.transform,
        '^.+\\.js$': [
          'ts-jest',
          { tsconfig: { allowJs: true, isolatedModules: true, module: 'commonjs', target: 'ES2022' } },
        ],
      },
      transformIgnorePatterns: ['/node_modules/(?!(ai7|@ai-sdk|@workflow|zod)/)'],
      testMatch: ['<rootDir>/libs/redis-cache/test/ai-sdk/*.spec.ts'],
    },
    // the examples of docs/ run as printed; Python needs redis-py (npm run test:docs, which CI runs)
    { ...shared, displayName: 'docs', testMatch: ['<rootDir>/test/docs/**/*.spec.ts'] },
  ],
};
