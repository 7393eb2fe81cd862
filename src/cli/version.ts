// tracelet's version, as `tracelet --version` prints it (kept equal to package.json's; tested).
export const VERSION = '0.1.0';
