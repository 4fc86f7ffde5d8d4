// Icons are drawn inline as SVG elements (no external file, nothing the CSP has to allow); they
// are decorative: whatever carries them names itself.

export function BrandMark() {
  return (
    <svg className="brand-mark" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="6" className="brand-mark-bg" />
      <circle cx="12" cy="16" r="5" fill="none" stroke="#fff" strokeWidth="3" />
      <path d="M17 16h10m-3 0v4m-4-4v3" stroke="#fff" strokeWidth="3" fill="none" strokeLinecap="round" />
    </svg>
  )
}

/** The seed's "building icon on the top left": the account. */
export function BuildingIcon() {
  return (
    <svg className="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d="M4 21V4a1 1 0 0 1 1-1h9a1 1 0 0 1 1 1v17M15 9h4a1 1 0 0 1 1 1v11M2 21h20M8 7h3M8 11h3M8 15h3" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  )
}
