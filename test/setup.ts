/**
 * Loaded before every test file (`npm test`: tsx --import ./test/setup.ts): shared lists are
 * frozen under test, so code that edits one by mistake — silently editing every layer or
 * tensor that shows it — fails with a TypeError (src/core/lists.ts, `freezing`).
 */
import { freezeSharedLists } from "../src/core/lists.js";

freezeSharedLists(true);
