import { createApp } from 'vue';
import { createPinia } from 'pinia';
import ElementPlus from 'element-plus';
import zhCn from 'element-plus/es/locale/lang/zh-cn';
import 'element-plus/dist/index.css';
import App from './App.vue';
import router from './router.js';
import { useSession } from './session.js';
import ExportButtons from './components/ExportButtons.vue';

const app = createApp(App).use(createPinia()).use(ElementPlus, { locale: zhCn }).component('ExportButtons', ExportButtons);
// The session first (a reload keeps the cookie), then the routes that need it.
useSession()
  .restore()
  .finally(() => app.use(router).mount('#app'));
