// Tests are ES modules written in TypeScript; SWC strips the types, Jest runs them as ESM.
const swc = ["@swc/jest", { jsc: { parser: { syntax: "typescript", tsx: true }, target: "es2023", transform: { react: { runtime: "automatic" } } }, module: { type: "es6" } }];

export default {
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts", ".tsx"],
  transform: { "^.+\\.tsx?$": swc },
  testMatch: ["<rootDir>/**/*.test.ts", "<rootDir>/**/*.test.tsx"],
  testPathIgnorePatterns: ["/node_modules/", "/dist/", "/out/"],
  modulePathIgnorePatterns: ["<rootDir>/dist/", "<rootDir>/out/"],
  testTimeout: 30000,
};
