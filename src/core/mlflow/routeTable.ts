import { artifactRoutes } from './artifacts.ts';
import { experimentRoutes } from './experiments.ts';
import { inputRoutes } from './inputs.ts';
import { registryRoutes } from './registry.ts';
import type { MlflowRoute } from './routes.ts';
import { trackingRoutes } from './tracking.ts';

/** Every endpoint `runboard serve` answers: each area adds its list here with one import. */
export const MLFLOW_ROUTES: readonly MlflowRoute[] = [...trackingRoutes, ...experimentRoutes, ...artifactRoutes, ...inputRoutes, ...registryRoutes];
