import { defineConfig } from "vite";

// The app window loads the built files from disk: relative paths, no dev
// server, nothing fetched at run time.
export default defineConfig({
  base: "./",
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2021",
    sourcemap: false,
  },
  server: { port: 1420, strictPort: true, host: "127.0.0.1" },
});
