import { RemoteError, type MlflowClient } from './client.ts';

/** A remote's experiment ids by name, found or created once per sync. */
export class RemoteExperiments {
  private readonly client: MlflowClient;
  private readonly ids = new Map<string, Promise<string>>();

  constructor(client: MlflowClient) {
    this.client = client;
  }

  idOf(name: string): Promise<string> {
    let id = this.ids.get(name);
    if (!id) {
      id = this.findOrCreate(name);
      this.ids.set(name, id);
      id.catch(() => this.ids.delete(name));
    }
    return id;
  }

  private async findOrCreate(name: string): Promise<string> {
    const found = await this.find(name);
    if (found !== undefined) return found;
    try {
      return (await this.client.post<{ experiment_id: string }>('experiments/create', { name })).experiment_id;
    } catch (err) {
      // A teammate created it meanwhile.
      if (!(err instanceof RemoteError && err.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw err;
      const again = await this.find(name);
      if (again === undefined) throw err;
      return again;
    }
  }

  async find(name: string): Promise<string | undefined> {
    try {
      const answer = await this.client.get<{ experiment: { experiment_id: string; lifecycle_stage?: string } }>('experiments/get-by-name', { experiment_name: name });
      return answer.experiment.experiment_id;
    } catch (err) {
      if (err instanceof RemoteError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw err;
    }
  }
}
