import { jwtChecks } from './sections/jwt.js';

/** `npx tsx bench/jwt.ts [tokens]`: only the JWT section of `npm run bench`, as it measures it, as JSON. */
const tokens = Number(process.argv[2] ?? 2_000);
console.log(JSON.stringify(await jwtChecks(Number.isInteger(tokens) && tokens > 0 ? tokens : 2_000)));
