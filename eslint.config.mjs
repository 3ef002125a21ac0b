// Lint rules: typescript-eslint's type-aware recommendations plus Pulumi's rules against Outputs in
// template literals (they print "Calling [toString] on an [Output<T>]" instead of the value).
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "bin/", ".pulumi-state/", "eslint.config.mjs"] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    // The plain-JavaScript entry points (the CLI's, the providers' loader) are outside tsconfig: linted on their own.
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: [
            "ops/bin.cjs",
            "lib/provider-loader.cjs",
            "*/*/*/lib/provider-loader.cjs",
            "*/*/lib/provider-loader.cjs",
          ],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { pulumi },
    rules: {
      "pulumi/no-output-in-template-literal": "error",
      "pulumi/no-output-instance-in-template-literal": "error",
      // Provider methods require their clients lazily (see providers/); those requires are typed by hand.
      "@typescript-eslint/no-require-imports": "off",
      // Dynamic-provider methods return promises by contract, whether or not they await anything.
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", ignoreRestSiblings: true }],
    },
  },
  // Plain JavaScript has no types to check.
  {
    files: ["**/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      "pulumi/no-output-in-template-literal": "off",
      "pulumi/no-output-instance-in-template-literal": "off",
    },
  },
);
