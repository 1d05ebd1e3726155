/**
 * Why `npm start` could not start, as one line that names the flag or variable to change; exit code 2 for what the
 * user can fix by choosing another port or state directory, 1 for anything else (with its stack, which is a bug).
 */

const PORT_FLAGS = {
  aws: ['AWS-protocol endpoint', '--aws-port', 'B2B_AWS_PORT'],
  carApi: ['car maker API gateway', '--car-api-port', 'B2B_CAR_API_PORT'],
  tireApi: ['supplier API gateway', '--tire-api-port', 'B2B_TIRE_API_PORT'],
  carAuth: ['car maker token endpoint', '--car-auth-port', 'B2B_CAR_AUTH_PORT'],
  tireAuth: ['supplier token endpoint', '--tire-auth-port', 'B2B_TIRE_AUTH_PORT'],
  console: ['operator console', '--console-port', 'B2B_CONSOLE_PORT'],
} as const;

export type RuntimePorts = Record<keyof typeof PORT_FLAGS, number>;

export interface StartupFailure {
  message: string;
  exitCode: 1 | 2;
}

export function startupFailure(error: unknown, context: { ports: RuntimePorts; stateDir: string }): StartupFailure {
  const err = error as NodeJS.ErrnoException & { port?: number };
  if (err?.code === 'EADDRINUSE') {
    const entry = Object.entries(context.ports).find(([, port]) => port !== 0 && port === err.port);
    if (entry) {
      const [label, flag, env] = PORT_FLAGS[entry[0] as keyof RuntimePorts];
      return {
        message: `Port ${entry[1]} (${label}) is in use by another program: stop it, or choose another port with ${flag} N or ${env}=N.`,
        exitCode: 2,
      };
    }
    return { message: `A port is in use (${err.message}): choose other ports (npm start -- --help).`, exitCode: 2 };
  }
  if (err instanceof Error && /The state directory .* is in use by/.test(err.message)) {
    return {
      message: `${err.message.replace(/ stop it first or use another state directory\.$/, '')} stop it, or use another with --state-dir DIR or B2B_STATE_DIR=DIR.`,
      exitCode: 2,
    };
  }
  return {
    message: `npm start failed: ${err instanceof Error ? (err.stack ?? err.message) : String(error)}`,
    exitCode: 1,
  };
}
