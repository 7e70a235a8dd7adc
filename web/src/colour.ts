/** A stable colour per nick: a hash of the folded nick picks one of a set of readable hues. */
const HUES = [0, 25, 45, 90, 140, 170, 200, 220, 260, 290, 320, 345];

export function nickHue(nick: string): number {
  let hash = 0;
  for (const ch of nick.toLowerCase()) hash = (Math.imul(hash, 31) + ch.codePointAt(0)!) | 0;
  return HUES[Math.abs(hash) % HUES.length]!;
}

/** IRC colour numbers 0-15 (mIRC palette); 16-98 use the extended palette roughly. */
const PALETTE = ['#ffffff', '#000000', '#00007f', '#009300', '#ff0000', '#7f0000', '#9c009c', '#fc7f00', '#ffff00', '#00fc00', '#009393', '#00ffff', '#0000fc', '#ff00ff', '#7f7f7f', '#d2d2d2'];

export function ircColour(colour: number | string): string | null {
  if (typeof colour === 'string') return /^#[0-9a-f]{6}$/.test(colour) ? colour : null;
  if (colour >= 0 && colour < PALETTE.length) return PALETTE[colour]!;
  if (colour >= 16 && colour <= 98) return `hsl(${((colour - 16) * 37) % 360} 60% 50%)`;
  return null;
}
