// Imported first by every DOM test: jest-dom's matchers, and React Testing Library's act() around
// user-event (which brings its own copy of @testing-library/dom).
import "@testing-library/jest-dom/jest-globals";
import { configure } from "@testing-library/dom";
import { act } from "@testing-library/react";

configure({
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
