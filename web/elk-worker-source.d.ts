/** The ELK worker script as text (web/build.ts inlines it), started from a blob: URL. */
declare module "elk-worker-source" {
  const source: string;
  export default source;
}
