import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { OperatorError } from '../command.js';
import type { Target } from '../target.js';

/**
 * A rotation in progress, one SSM String parameter per rotated credential (`/${stage}/car-orders/rotations/KIND`):
 * which secret or key is on its way out and until when it is accepted. Ids and dates only, never a value.
 */
export const RotationState = z.object({
  kind: z.enum(['callback-client', 'supplier-api-key']),
  /** The app client or the partner record's client the credential belongs to. */
  subject: z.string().min(1),
  userPoolId: z.string().optional(),
  previousId: z.string().min(1),
  currentId: z.string().min(1),
  rotatedAt: z.iso.datetime(),
  previousAcceptedUntil: z.iso.datetime(),
  /** AWS, callback client: the one-time EventBridge Scheduler schedule that deletes the previous secret then. */
  deadlineSchedule: z.object({ name: z.string().min(1), group: z.string().min(1) }).optional(),
});
export type RotationState = z.infer<typeof RotationState>;
export type RotationKind = RotationState['kind'];

export function rotationStateName(stage: string, kind: RotationKind): string {
  return `/${stage}/car-orders/rotations/${kind}`;
}

export async function readRotationState(target: Target, kind: RotationKind): Promise<RotationState | undefined> {
  const name = rotationStateName(target.stage, kind);
  let value: string | undefined;
  try {
    value = (await target.clients.ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(value ?? '');
  } catch {
    json = undefined;
  }
  const parsed = RotationState.safeParse(json);
  if (!parsed.success) throw new OperatorError(`Rotation record ${name} is malformed.`);
  return parsed.data;
}

export async function writeRotationState(target: Target, state: RotationState): Promise<void> {
  await target.clients.ssm.send(
    new PutParameterCommand({
      Name: rotationStateName(target.stage, state.kind),
      Type: 'String',
      Value: JSON.stringify(state),
      Overwrite: true,
      Description: `b2b rotate ${state.kind}: what is rotated out and until when (no secrets)`,
    }),
  );
}

export async function deleteRotationState(target: Target, kind: RotationKind): Promise<void> {
  try {
    await target.clients.ssm.send(new DeleteParameterCommand({ Name: rotationStateName(target.stage, kind) }));
  } catch (error) {
    if ((error as Error).name !== 'ParameterNotFound') throw error;
  }
}
