// Merged by pcf-scripts into its webpack configuration (enabled by featureconfig.json). The card and
// Core import each other with .ts extensions; TypeScript rewrites those to .js when it emits
// (rewriteRelativeImportExtensions), and this maps them back to the .ts files on disk.
const config = {
  resolve: {
    extensionAlias: { ".js": [".ts", ".tsx", ".js"] },
  },
};

// pcf-scripts loads this file with require(); the string export name gives require() the object itself.
export { config as "module.exports" };
