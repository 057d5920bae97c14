// ESLint flat config. pcf-scripts also requires a flat config at the root to build the control.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import powerApps from "@microsoft/eslint-plugin-power-apps";
import globals from "globals";

export default tseslint.config(
  { ignores: ["node_modules/**", "dist/**", "out/**", ".data/**", ".sandbox/**", "**/generated/**", "PcfControls/**/generated/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Code that runs in the seller's browser inside Dynamics 365.
    files: ["WebResources/**/*.ts", "PcfControls/**/*.ts", "PcfControls/**/*.tsx"],
    languageOptions: { globals: { ...globals.browser, Xrm: "readonly", ComponentFramework: "readonly" } },
    plugins: { "@microsoft/power-apps": powerApps },
    rules: { ...powerApps.configs.paCheckerHosted.rules },
  },
);
