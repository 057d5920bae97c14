// Imported first by every DOM test: jest-dom's matchers, and React Testing Library's act() around
// user-event (which brings its own copy of @testing-library/dom).
import "@testing-library/jest-dom/jest-globals";
import { configure } from "@testing-library/dom";
import { act, configure as configureReact } from "@testing-library/react";

// findBy*/waitFor give up after 1 s by default; a loaded 2-core CI machine can take longer to open a Fluent
// dialog. What the tests wait for is unchanged: it must still appear.
const ASYNC_UTIL_TIMEOUT_MS = 5000;
configureReact({ asyncUtilTimeout: ASYNC_UTIL_TIMEOUT_MS });

configure({
  asyncUtilTimeout: ASYNC_UTIL_TIMEOUT_MS,
  eventWrapper: (callback) => {
    let result: unknown;
    act(() => {
      result = callback();
    });
    return result;
  },
  asyncWrapper: async (callback) => {
    let result: unknown;
    await act(async () => {
      result = await callback();
    });
    return result;
  },
});
