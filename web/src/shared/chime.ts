// A short two-note chime for something that wants attention; silent where the browser allows no audio, so
// callers always pair it with something visible.

export function chime(notes: [number, number] = [880, 1320]) {
  try {
    const audio = new AudioContext();
    const gain = audio.createGain();
    gain.gain.value = 0.05;
    gain.connect(audio.destination);
    notes.forEach((hz, i) => {
      const tone = audio.createOscillator();
      tone.frequency.value = hz;
      tone.connect(gain);
      tone.start(audio.currentTime + i * 0.12);
      tone.stop(audio.currentTime + i * 0.12 + 0.1);
    });
    setTimeout(() => void audio.close(), 500);
  } catch {
    // No audio here.
  }
}
