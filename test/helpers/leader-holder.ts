// Child process of the leader tests: tries for the lead on argv[2] (a database URL)
// and prints "elected" or "deposed" on each change, until killed.
import { PostgresLeader, leaderLockName } from '../../src/leader.js';

const leader = new PostgresLeader(process.argv[2]!, leaderLockName('example.org'), { pollMs: 200 });
leader.on('elected', () => process.stdout.write('elected\n'));
leader.on('deposed', () => process.stdout.write('deposed\n'));
await leader.start();
process.stdout.write('started\n');
setInterval(() => {}, 60000);
