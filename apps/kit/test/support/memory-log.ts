// An in-memory log destination: every JSON line a logger writes, parsed.
import { createLogger, type Logger } from '../../src/index.js';

export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

export function memoryDestination(): { destination: { write(chunk: string): void }; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const destination = {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
    },
  };
  return { destination, lines };
}

export function memoryLog(service = 'test'): { logger: Logger; lines: LogLine[] } {
  const { destination, lines } = memoryDestination();
  return { logger: createLogger({ service, level: 'debug', destination }), lines };
}
