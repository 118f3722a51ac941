// Addresses of the web pages that other front ends hand out (the bot's QR image).
/** The QR image of the invite whose landing page is `landingUrl` (see landing.ts). */
export function qrCodeUrl(landingUrl: string): string {
  return `${landingUrl}/qr.png`;
}
