// Lets node run tsc's ES module output as it is. The example imports `../lib/meow` without an
// extension, as a Next.js app does (its bundler resolves it to lib/meow.ts); Node's ES module loader
// wants the file name, so this resolve hook tries `<specifier>.js` for a relative specifier that
// names no file. Used as `node --import ./register-extensionless.mjs build/test/smoke.js` (Node 20.6+).
import { register } from "node:module";

const hooks = `
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const relative = specifier.startsWith("./") || specifier.startsWith("../");
    if (error?.code !== "ERR_MODULE_NOT_FOUND" || !relative || /\\.[cm]?js$/.test(specifier)) throw error;
    return nextResolve(specifier + ".js", context);
  }
}
`;

register("data:text/javascript," + encodeURIComponent(hooks));
