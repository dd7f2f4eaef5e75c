import { basename } from 'node:path';
import { InUseError, Registry, validateName, type ModelVersion } from '../registry/registry.ts';
import type { RegisteredModelRecord } from '../store/models.ts';
import type { Store } from '../store/store.ts';
import { locate, runArtifactFolder, REGISTRY_ARTIFACTS_ROOT, RUN_ARTIFACTS_FOLDER, safeArtifactPath, type Location } from './artifacts.ts';
import { mlflowExperimentId, runOf } from './ids.ts';
import { decodePageToken, encodePageToken, maxResults } from './paging.ts';
import { API, MlflowError, optionalString, requiredString, type MlflowContext, type MlflowReply, type MlflowRequest, type MlflowRoute } from './routes.ts';
import { validateExperimentTag } from './validation.ts';

/**
 * MLflow's model registry over Runboard's: a version created through MLflow is a Runboard model
 * version (copied whole from the run's folder, lineage run → version, promotion gates applied),
 * aliases are Runboard's aliases, and a version is READY at once (the copy is made before the
 * reply). Stages (deprecated by MLflow) are kept as MLflow keeps them. A deleted version stays in
 * the store, hidden, as in MLflow, and one that a deployment serves is refused (409
 * RESOURCE_CONFLICT, which clients do not retry). Models are downloaded from the
 * registry's copy (`get-download-uri`), so `models:/name@alias` loads the bytes that were
 * registered even after the run's folder changed or was deleted.
 */

const invalid = (message: string): MlflowError => new MlflowError('INVALID_PARAMETER_VALUE', message);

function modelRecord(store: Store, name: string): RegisteredModelRecord {
  const found = store.models.registeredModels().find((m) => m.name === name);
  if (!found) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${name} not found`);
  return found;
}

function versionOf(registry: Registry, name: string, version: string): ModelVersion {
  const found = /^[1-9]\d{0,9}$/.test(version) ? registry.get(name, Number(version)) : undefined;
  if (!found) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Model Version (name=${name}, version=${version}) not found`);
  return found;
}

/** The URI a registered version downloads from: the registry's own copy, served read-only by artifacts.ts. */
const downloadUri = (v: ModelVersion): string => `mlflow-artifacts:/${REGISTRY_ARTIFACTS_ROOT}/${v.name}/${v.version}/${basename(v.storedPath)}`;

/** The version as MLflow's `ModelVersion` message. */
function versionJson(store: Store, v: ModelVersion, withTags = true): Record<string, unknown> {
  const run = v.runId === null ? undefined : store.run(v.runId);
  const artifact = v.snapshot.artifact?.path;
  // Where the run keeps it, as the client named it; a version from a plain file (or a deleted run) has only the registry's copy.
  const source =
    run && artifact?.startsWith('artifacts/') ? `mlflow-artifacts:/${mlflowExperimentId({ id: run.experimentId, name: run.experiment })}/${run.mlflowId}/${artifact}` : downloadUri(v);
  return {
    name: v.name,
    version: String(v.version),
    creation_timestamp: v.createdAt,
    last_updated_timestamp: v.updatedAt,
    current_stage: v.stage,
    description: v.description,
    source,
    ...(run ? { run_id: run.mlflowId } : {}),
    status: 'READY',
    ...(withTags ? tagList(v.tags) : {}),
    run_link: '',
    ...(v.aliases.length ? { aliases: v.aliases } : {}),
  };
}

const tagList = (tags: Record<string, string>): { tags?: { key: string; value: string }[] } => {
  const list = Object.entries(tags).map(([key, value]) => ({ key, value }));
  return list.length ? { tags: list } : {};
};

/** The newest version in each stage, stages in the order their first version reached them (as MLflow lists them). */
function latestPerStage(versions: readonly ModelVersion[]): ModelVersion[] {
  const latest = new Map<string, ModelVersion>();
  for (const v of [...versions].sort((a, b) => a.version - b.version)) latest.set(v.stage, v);
  return [...latest.values()];
}

/** The model as MLflow's `RegisteredModel` message, with its newest version and its aliases. */
function modelJson(store: Store, registry: Registry, model: RegisteredModelRecord): Record<string, unknown> {
  const versions = registry.list(model.name);
  const aliases = versions.flatMap((v) => v.aliases.map((alias) => ({ alias, version: String(v.version) }))).sort((a, b) => (a.alias < b.alias ? -1 : 1));
  return {
    name: model.name,
    creation_timestamp: model.createdAt,
    last_updated_timestamp: model.updatedAt,
    ...(model.description ? { description: model.description } : {}),
    // As MLflow: the newest version of each stage, without its tags.
    ...(versions.length ? { latest_versions: latestPerStage(versions).map((v) => versionJson(store, v, false)) } : {}),
    ...tagList(model.tags),
    ...(aliases.length ? { aliases } : {}),
  };
}

function createModel(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  // Runboard's naming rule (it names folders after models); its UserError answers INVALID_PARAMETER_VALUE.
  const name = validateName(requiredString(request, 'name'));
  if (!store.models.createRegistered(name, optionalString(request, 'description') ?? '')) {
    throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`);
  }
  return { json: { registered_model: modelJson(store, new Registry(store), modelRecord(store, name)) } };
}

function getModel(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const model = modelRecord(store, requiredString(request, 'name'));
  return { json: { registered_model: modelJson(store, new Registry(store), model) } };
}

function updateModel(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const name = requiredString(request, 'name');
  modelRecord(store, name);
  const description = optionalString(request, 'description');
  if (description !== undefined) store.models.describe(name, description);
  return { json: { registered_model: modelJson(store, new Registry(store), modelRecord(store, name)) } };
}

/** `name = 'x'`, `name != 'x'`, `name LIKE 'x%'`, `name ILIKE 'x%'` (what clients send), else refused. */
const NAME_FILTER = /^\s*name\s*(=|!=|LIKE|ILIKE)\s*(['"])(.*)\2\s*$/i;

function nameMatcher(filter: string | undefined): (name: string) => boolean {
  if (!filter?.trim()) return () => true;
  const match = NAME_FILTER.exec(filter);
  if (!match) throw invalid(`Runboard searches registered models by name only (name = '…', name LIKE '…%'), not by "${filter}"`);
  const [, op, , value] = match as unknown as [string, string, string, string];
  const comparator = op.toUpperCase();
  if (comparator === '=') return (name) => name === value;
  if (comparator === '!=') return (name) => name !== value;
  const pattern = new RegExp(`^${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.')}$`, comparator === 'ILIKE' ? 'is' : 's');
  return (name) => pattern.test(name);
}

/** One page of `items` from the request's page_token (MLflow's offset token), and the next page's token. */
function page<T>(items: T[], request: MlflowRequest, byDefault: number, most: number): { items: T[]; next?: string } {
  const size = maxResults(request.fields.max_results, byDefault, most, 'Invalid value for max_results. It must be a positive integer,');
  const offset = decodePageToken(optionalString(request, 'page_token'));
  return { items: items.slice(offset, offset + size), ...(offset + size < items.length ? { next: encodePageToken(offset + size) } : {}) };
}

function searchModels(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const matches = nameMatcher(optionalString(request, 'filter'));
  const registry = new Registry(store);
  const models = store.models.registeredModels().filter((m) => matches(m.name));
  const { items, next } = page(models, request, 100, 1000);
  return { json: { ...(items.length ? { registered_models: items.map((m) => modelJson(store, registry, m)) } : {}), ...(next ? { next_page_token: next } : {}) } };
}

/** `mlflow-artifacts:/<exp>/<run>/artifacts/<path>` (with or without a host) or `runs:/<run>/<path>`: where it lies in the run's folder. */
function sourceLocation(store: Store, source: string): Location {
  const artifacts = /^mlflow-artifacts:(?:\/\/[^/]*)?\/+(.+)$/.exec(source);
  const runs = /^runs:\/([^/]+)\/(.+)$/.exec(source);
  const at = artifacts ? locate(store, safeArtifactPath(artifacts[1]!)) : runs ? runArtifactFolder(store, runOf(store, runs[1]!), runs[2]!) : undefined;
  if (!at?.run || at.rel === RUN_ARTIFACTS_FOLDER) {
    throw invalid(`Invalid model version source: '${source}'. Runboard registers models from its runs' artifacts: mlflow-artifacts:/<experiment>/<run>/artifacts/<path> or runs:/<run>/<path>`);
  }
  return at;
}

function createVersion(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const name = requiredString(request, 'name');
  const source = requiredString(request, 'source');
  const at = sourceLocation(store, source);
  const given = optionalString(request, 'run_id');
  if (given && given !== at.run!.mlflowId) throw invalid(`Invalid model version source: '${source}' is not an artifact of run ${given}`);
  modelRecord(store, name);
  // MLflow adds a version on every create, identical model or not; its clients count on that.
  const version = new Registry(store).register({ name, run: at.run!.id, artifact: at.rel, allowIdentical: true });
  return { json: { model_version: versionJson(store, version) } };
}

function getVersion(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const version = versionOf(new Registry(store), requiredString(request, 'name'), requiredString(request, 'version'));
  return { json: { model_version: versionJson(store, version) } };
}

function downloadUriOf(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const version = versionOf(new Registry(store), requiredString(request, 'name'), requiredString(request, 'version'));
  return { json: { artifact_uri: downloadUri(version) } };
}

/** `name = 'x'` or `run_id = '…'` (what `search_model_versions` sends), else refused. */
const VERSION_FILTER = /^\s*(name|run_id)\s*=\s*(['"])(.*)\2\s*$/;

function searchVersions(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const filter = optionalString(request, 'filter');
  const registry = new Registry(store);
  let versions = registry.list();
  if (filter?.trim()) {
    const match = VERSION_FILTER.exec(filter);
    if (!match) throw invalid(`Runboard searches model versions by name = '…' or run_id = '…', not by "${filter}"`);
    const [, key, , value] = match as unknown as [string, string, string, string];
    versions = versions.filter((v) => (key === 'name' ? v.name === value : v.runId !== null && store.run(v.runId)?.mlflowId === value));
  }
  // MLflow's default order: last updated first, then by name, newest version first.
  versions.sort((a, b) => b.updatedAt - a.updatedAt || (a.name < b.name ? -1 : a.name > b.name ? 1 : b.version - a.version));
  const { items, next } = page(versions, request, 10_000, 200_000);
  return { json: { ...(items.length ? { model_versions: items.map((v) => versionJson(store, v)) } : {}), ...(next ? { next_page_token: next } : {}) } };
}

const STAGES = ['None', 'Staging', 'Production', 'Archived'];

/** MLflow's canonical spelling of a stage, matched without case. */
function canonicalStage(stage: string): string {
  const found = STAGES.find((s) => s.toLowerCase() === stage.toLowerCase());
  if (!found) throw invalid(`Invalid Model Version stage: ${stage}. Value must be one of ${STAGES.join(', ')}.`);
  return found;
}

/** The newest version of each requested stage (every stage when none is named). */
function latestVersions(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const name = requiredString(request, 'name');
  modelRecord(store, name);
  const stages = request.fields.stages;
  const asked = stages === undefined || stages === null ? [] : (Array.isArray(stages) ? stages : [stages]).map((s) => canonicalStage(String(s)));
  const wanted = new Set(asked.length ? asked : STAGES);
  const shown = latestPerStage(new Registry(store).list(name)).filter((v) => wanted.has(v.stage));
  return { json: shown.length ? { model_versions: shown.map((v) => versionJson(store, v)) } : {} };
}

function transitionStage(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const name = requiredString(request, 'name');
  const versionText = requiredString(request, 'version');
  const stage = canonicalStage(requiredString(request, 'stage'));
  const archive = request.fields.archive_existing_versions === true || request.fields.archive_existing_versions === 'true';
  if (archive && stage !== 'Staging' && stage !== 'Production') {
    throw invalid(`Model version transition cannot archive existing model versions because '${stage}' is not an Active stage. Valid stages are ['Staging', 'Production']`);
  }
  const registry = new Registry(store);
  const version = versionOf(registry, name, versionText);
  store.models.setStage(version.id, stage, archive);
  return { json: { model_version: versionJson(store, registry.byId(version.id)!) } };
}

function updateVersion(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const registry = new Registry(store);
  const version = versionOf(registry, requiredString(request, 'name'), requiredString(request, 'version'));
  // As MLflow: an update without a description clears it.
  store.models.describeVersion(version.id, optionalString(request, 'description') ?? '');
  return { json: { model_version: versionJson(store, registry.byId(version.id)!) } };
}

/** Runboard's refusal to remove what a deployment serves, as a conflict (409) rather than a failure clients retry. */
function refusingInUse<T>(action: () => T): T {
  try {
    return action();
  } catch (err) {
    if (err instanceof InUseError) throw new MlflowError('RESOURCE_CONFLICT', err.message, 409);
    throw err;
  }
}

function deleteVersion(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const registry = new Registry(store);
  const version = versionOf(registry, requiredString(request, 'name'), requiredString(request, 'version'));
  refusingInUse(() => registry.deleteVersion(version.name, version.version));
  return { json: {} };
}

function deleteModel(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const name = requiredString(request, 'name');
  modelRecord(store, name);
  refusingInUse(() => new Registry(store).deleteModel(name));
  return { json: {} };
}

function renameModel(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const name = requiredString(request, 'name');
  const newName = validateName(requiredString(request, 'new_name'));
  modelRecord(store, name);
  const registry = new Registry(store);
  if (newName !== name) {
    if (store.models.registeredModels().some((m) => m.name === newName)) throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${newName}) already exists.`);
    refusingInUse(() => registry.renameModel(name, newName));
  }
  return { json: { registered_model: modelJson(store, registry, modelRecord(store, newName)) } };
}

/** A tag of a registered model or model version, checked as MLflow checks one (key required, limits). */
function tagOf(request: MlflowRequest): { key: string; value: string } {
  requiredString(request, 'key');
  return validateExperimentTag(request.fields);
}

function setModelTag(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const name = requiredString(request, 'name');
  const tag = tagOf(request);
  modelRecord(store, name);
  store.models.setModelTag(name, tag.key, tag.value);
  return { json: {} };
}

function deleteModelTag(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const name = requiredString(request, 'name');
  const key = requiredString(request, 'key');
  modelRecord(store, name);
  store.models.deleteModelTag(name, key);
  return { json: {} };
}

function setVersionTag(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const name = requiredString(request, 'name');
  const versionText = requiredString(request, 'version');
  const tag = tagOf(request);
  const version = versionOf(new Registry(store), name, versionText);
  store.models.setVersionTag(version.id, tag.key, tag.value);
  return { json: {} };
}

function deleteVersionTag(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const name = requiredString(request, 'name');
  const versionText = requiredString(request, 'version');
  const key = requiredString(request, 'key');
  const version = versionOf(new Registry(store), name, versionText);
  store.models.deleteVersionTag(version.id, key);
  return { json: {} };
}

function setAlias(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const name = requiredString(request, 'name');
  const registry = new Registry(store);
  const version = versionOf(registry, name, requiredString(request, 'version'));
  registry.setAlias(name, requiredString(request, 'alias'), version.version);
  return { json: {} };
}

function versionByAlias(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const name = requiredString(request, 'name');
  const alias = requiredString(request, 'alias');
  modelRecord(store, name);
  const version = store.models.aliasVersion(name, alias);
  if (version === undefined) throw invalid(`Registered model alias ${alias} not found.`);
  return { json: { model_version: versionJson(store, versionOf(new Registry(store), name, String(version))) } };
}

function deleteAlias(request: MlflowRequest, { store }: MlflowContext): MlflowReply {
  const name = requiredString(request, 'name');
  modelRecord(store, name);
  store.models.deleteAlias(name, requiredString(request, 'alias'));
  return { json: {} };
}

const MODELS = `${API}/registered-models`;
const VERSIONS = `${API}/model-versions`;

export const registryRoutes: readonly MlflowRoute[] = [
  { method: 'POST', path: `${MODELS}/create`, handle: createModel },
  { method: 'GET', path: `${MODELS}/get`, handle: getModel },
  { method: 'PATCH', path: `${MODELS}/update`, handle: updateModel },
  { method: 'GET', path: `${MODELS}/search`, handle: searchModels },
  { method: 'GET', path: `${MODELS}/get-latest-versions`, handle: latestVersions },
  { method: 'POST', path: `${MODELS}/get-latest-versions`, handle: latestVersions },
  { method: 'POST', path: `${MODELS}/alias`, handle: setAlias },
  { method: 'GET', path: `${MODELS}/alias`, handle: versionByAlias },
  { method: 'DELETE', path: `${MODELS}/alias`, handle: deleteAlias },
  { method: 'POST', path: `${VERSIONS}/create`, handle: createVersion },
  { method: 'GET', path: `${VERSIONS}/get`, handle: getVersion },
  { method: 'GET', path: `${VERSIONS}/get-download-uri`, handle: downloadUriOf },
  { method: 'GET', path: `${VERSIONS}/search`, handle: searchVersions },
  { method: 'DELETE', path: `${MODELS}/delete`, handle: deleteModel },
  { method: 'POST', path: `${MODELS}/rename`, handle: renameModel },
  { method: 'POST', path: `${MODELS}/set-tag`, handle: setModelTag },
  { method: 'DELETE', path: `${MODELS}/delete-tag`, handle: deleteModelTag },
  { method: 'PATCH', path: `${VERSIONS}/update`, handle: updateVersion },
  { method: 'DELETE', path: `${VERSIONS}/delete`, handle: deleteVersion },
  { method: 'POST', path: `${VERSIONS}/transition-stage`, handle: transitionStage },
  { method: 'POST', path: `${VERSIONS}/set-tag`, handle: setVersionTag },
  { method: 'DELETE', path: `${VERSIONS}/delete-tag`, handle: deleteVersionTag },
];
