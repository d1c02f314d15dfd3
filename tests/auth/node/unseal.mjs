// Reads [{sealed, secret}] as JSON on stdin; prints the Node SDK's unsealCookie results.
import { unsealCookie } from '@civitai/app-sdk/cookies';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const items = JSON.parse(input);
process.stdout.write(JSON.stringify(items.map(({ sealed, secret }) => unsealCookie(sealed, secret))));
