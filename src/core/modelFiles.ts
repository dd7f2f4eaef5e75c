import { extname } from 'node:path';

/**
 * The one list of model file kinds: capture records such artifacts as models, and the editor
 * offers Register Model and Deploy Model on them (package.json's `explorer/context` `when` regex
 * lists the same; a unit test holds them together). Keras (.h5, .keras) and Lightning or
 * TensorFlow checkpoints (.ckpt) are how those frameworks save a trained model, so they are models
 * too, although the built-in local server loads only pickle/joblib, TorchScript and ONNX: a custom
 * deploy target serves the others.
 */
export const MODEL_EXTENSIONS = ['.pkl', '.joblib', '.pt', '.pth', '.onnx', '.safetensors', '.h5', '.keras', '.ckpt'] as const;

const MODEL_EXTENSION_SET: ReadonlySet<string> = new Set(MODEL_EXTENSIONS);

/** Whether a path names a model file, by its extension (any case). */
export function isModelFile(path: string): boolean {
  return MODEL_EXTENSION_SET.has(extname(path).toLowerCase());
}
