import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  moduleNameMapper: {
    '^fastroai$': '<rootDir>/src/index.ts',
    '^fastroai/testing$': '<rootDir>/src/testing/index.ts',
    '^fastroai/sqlite$': '<rootDir>/src/sqlite/index.ts',
    '^fastroai/progress$': '<rootDir>/src/progress/index.ts',
    '^fastroai/redis$': '<rootDir>/src/redis/index.ts',
    '^fastroai/postgres$': '<rootDir>/src/postgres/index.ts',
    '^fastroai/inspector$': '<rootDir>/src/inspector/index.ts',
    '^fastroai/distributed$': '<rootDir>/src/distributed/index.ts',
  },
  setupFiles: ['<rootDir>/tests/setup/reflect-metadata.ts'],
};

export default config;
