// Three 16 px glyphs drawn inline: @fluentui/react-icons is not a platform library, and bundling it
// would cost far more than these paths. They are decorative: the text next to them says the same.
import * as React from "react";

const svgProps = { width: 16, height: 16, viewBox: "0 0 16 16", "aria-hidden": true, focusable: false } as const;

export const PassedIcon = (props: { className?: string }): React.ReactElement => (
  <svg {...svgProps} className={props.className}>
    <circle cx="8" cy="8" r="7" fill="currentColor" />
    <path d="M4.8 8.2l2.1 2.1 4.3-4.6" fill="none" stroke="#fff" strokeWidth="1.6" strokeLinecap="round" strokeLinejoin="round" />
  </svg>
);

export const FailedIcon = (props: { className?: string }): React.ReactElement => (
  <svg {...svgProps} className={props.className}>
    <circle cx="8" cy="8" r="7" fill="currentColor" />
    <path d="M8 4.4v4.3" stroke="#fff" strokeWidth="1.7" strokeLinecap="round" />
    <circle cx="8" cy="11.2" r="1" fill="#fff" />
  </svg>
);

export const NotNeededIcon = (props: { className?: string }): React.ReactElement => (
  <svg {...svgProps} className={props.className}>
    <circle cx="8" cy="8" r="6.3" fill="none" stroke="currentColor" strokeWidth="1.4" />
    <path d="M5.2 8h5.6" stroke="currentColor" strokeWidth="1.4" strokeLinecap="round" />
  </svg>
);
