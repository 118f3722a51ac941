// Child process of the LocalPostgres tests: starts a LocalPostgres, prints one
// JSON line {pid, pids, dir} and then, by argv[2]: `hold` waits to be killed,
// `exit` calls process.exit(0) without stop() (the exit hook must clean up).
import { LocalPostgres } from '../../src/postgres/local-postgres.js';

const mode = process.argv[2] ?? 'hold';
const server = await LocalPostgres.start();
process.stdout.write(JSON.stringify({ pid: server.pid, pids: server.pids(), dir: server.dir }) + '\n');
if (mode === 'exit') process.exit(0);
setInterval(() => {}, 60000);
