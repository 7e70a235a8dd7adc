/**
 * The topic line becomes editable for those allowed to change it (operators, or anyone when
 * the room is not +t): click or Enter opens an input; Enter sets the topic, Escape cancels.
 */
export function makeTopicEditable(topic: HTMLElement, current: string, onSet: (text: string) => void): void {
  topic.tabIndex = 0;
  topic.setAttribute('role', 'button');
  topic.title = 'Edit the topic';
  topic.classList.add('editable');
  const open = () => {
    const input = document.createElement('input');
    input.className = 'topic-input';
    input.value = current;
    input.setAttribute('aria-label', 'New topic (Enter to set, Escape to cancel)');
    topic.replaceChildren(input);
    input.focus();
    // Removing a focused input fires blur inside the removal: `done` makes finishing happen once.
    let done = false;
    const finish = (set: boolean) => {
      if (done) return;
      done = true;
      const value = input.value;
      if (set && value !== current) onSet(value);
      topic.textContent = (set ? value : current) || 'No topic';
    };
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') finish(true);
      else if (e.key === 'Escape') finish(false);
      e.stopPropagation();
    });
    input.addEventListener('blur', () => finish(false));
  };
  topic.onclick = (e) => {
    if (!(e.target instanceof HTMLInputElement)) open();
  };
  topic.onkeydown = (e) => {
    if (e.key === 'Enter' && !(e.target instanceof HTMLInputElement)) open();
  };
}

export function makeTopicReadOnly(topic: HTMLElement): void {
  topic.removeAttribute('tabindex');
  topic.removeAttribute('role');
  topic.removeAttribute('title');
  topic.classList.remove('editable');
  topic.onclick = null;
  topic.onkeydown = null;
}
