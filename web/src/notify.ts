/** Desktop notifications (after permission) for mentions and direct messages while the page is hidden. */
export function askNotificationPermission(): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'default') return;
  void Notification.requestPermission().catch(() => {});
}

export function notify(title: string, body: string, onClick: () => void): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted' || !document.hidden) return;
  try {
    const notification = new Notification(title, { body: body.slice(0, 200), tag: title });
    notification.onclick = () => {
      window.focus();
      onClick();
      notification.close();
    };
  } catch {
    // Some platforms only allow notifications from a service worker.
  }
}

export function setTitle(unread: number): void {
  document.title = unread > 0 ? `(${unread}) Parley` : 'Parley';
}
