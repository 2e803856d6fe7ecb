import { hashPassword } from './password.js';

/**
 * `npm run hash-password`: reads a password from stdin (a pipe, or typed and ended with
 * Enter) and prints the line to put in the file CONSOLE_PASSWORD_FILE names.
 */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password, then Enter: ');
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (process.stdin.isTTY && text.includes('\n')) break;
  }
  return text.replace(/\r?\n$/, '');
}

const password = await readStdin();
if (password.length < 8) {
  process.stderr.write('hash-password: a password of at least 8 characters is needed\n');
  process.exit(2);
}
process.stdout.write(`${await hashPassword(password)}\n`);
process.exit(0);
