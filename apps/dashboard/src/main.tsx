import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
// The shared styles come first, so a page's own CSS (imported by its page) wins at equal specificity.
import './styles.css';
import { App } from './app.tsx';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
