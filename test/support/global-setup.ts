import { openRegistry } from './server-registry';

/** Jest's globalSetup: the registry of the redis-server processes this run starts. */
export default function globalSetup(): void {
  openRegistry();
}
