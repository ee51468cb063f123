import { startOpenAIServer, type OpenAIServer } from './openai-server';

/**
 * Starts the OpenAI-protocol test server for the file's tests and points `openai:` models at it
 * (OPENAI_API_KEY, OPENAI_BASE_URL, restored afterwards); resets its script before each test.
 * Returns a getter: the server exists once `beforeAll` ran.
 */
export function useOpenAIServer(): () => OpenAIServer {
  let server: OpenAIServer | undefined;
  const saved = { OPENAI_API_KEY: process.env.OPENAI_API_KEY, OPENAI_BASE_URL: process.env.OPENAI_BASE_URL };

  beforeAll(async () => {
    server = await startOpenAIServer();
    process.env.OPENAI_API_KEY = 'sk-test-key';
    process.env.OPENAI_BASE_URL = server.baseURL;
  });

  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await server?.close();
  });

  beforeEach(() => server?.reset());

  return () => {
    if (server === undefined) throw new Error('the OpenAI test server is not started yet (use it inside a test)');
    return server;
  };
}
