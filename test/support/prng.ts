export { prng } from "../../src/core/prng.js";
