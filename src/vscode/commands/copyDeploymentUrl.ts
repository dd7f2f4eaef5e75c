import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import type { Deployment } from '../../core/deploy/types.ts';
import { COMMANDS } from '../commandIds.ts';
import type { CommandSpec } from './command.ts';

/** Copy URL of a deployment (from the Deployments view). */
export const copyDeploymentUrlCommand: CommandSpec = {
  id: COMMANDS.copyDeploymentUrl,
  async run(_container, _views, arg): Promise<string | undefined> {
    const node = arg as { kind?: string; deployment?: Deployment } | undefined;
    const url = node?.deployment?.url;
    if (!url) throw new UserError('This deployment has no URL');
    await vscode.env.clipboard.writeText(url);
    return url;
  },
};
