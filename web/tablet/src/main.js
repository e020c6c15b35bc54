import './sw-register.js';
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import Vant from 'vant';
import 'vant/lib/index.css';
import App from './App.vue';
import router from './router.js';

createApp(App).use(createPinia()).use(Vant).use(router).mount('#app');
