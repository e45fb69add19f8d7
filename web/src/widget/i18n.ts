// The widget's words in Chinese and English; the language comes from the embed (data-lang) or the browser.

const strings = {
  'zh-CN': {
    title: '在线客服',
    placeholder: '输入消息，按 Enter 发送',
    send: '发送',
    close: '关闭',
    greeting: '您好！有什么可以帮您？',
    queued: (n: number) => `正在为您接入客服，您前面还有 ${n - 1} 位`,
    queuedFirst: '正在为您接入客服，您是下一位',
    assigned: (name: string) => `客服 ${name} 正在为您服务`,
    closed: '本次会话已结束，发送消息可开始新的会话',
    timeout: '客服暂时忙碌，请稍候，或稍后再来',
    reconnecting: '连接中断，正在重新连接…',
    failed: '发送失败',
    retry: '重试',
    typing: (name: string) => `${name} 正在输入…`,
    you: '我',
    rateTitle: '请为本次服务评分',
    rateComment: '还有什么想告诉我们的吗？（选填）',
    rateSubmit: '提交评价',
    rateThanks: '感谢您的评价！',
    star: (n: number) => `${n} 星`,
    preChatTitle: '开始对话前，请留下您的联系方式',
    preChatStart: '开始对话',
    fieldName: '姓名',
    fieldEmail: '邮箱',
    fieldPhone: '电话',
  },
  en: {
    title: 'Chat with us',
    placeholder: 'Type a message, Enter to send',
    send: 'Send',
    close: 'Close',
    greeting: 'Hello! How can we help?',
    queued: (n: number) => `Connecting you to an agent: ${n - 1} ahead of you`,
    queuedFirst: 'Connecting you to an agent: you are next',
    assigned: (name: string) => `${name} is helping you`,
    closed: 'This conversation has ended. Write to start a new one.',
    timeout: 'Our agents are busy right now. Please wait, or come back later.',
    reconnecting: 'Connection lost, reconnecting…',
    failed: 'Not sent',
    retry: 'Retry',
    typing: (name: string) => `${name} is typing…`,
    you: 'You',
    rateTitle: 'How did we do?',
    rateComment: 'Anything else you would like to tell us? (optional)',
    rateSubmit: 'Send rating',
    rateThanks: 'Thank you for your feedback!',
    star: (n: number) => `${n} star${n > 1 ? 's' : ''}`,
    preChatTitle: 'Before we start, please tell us how to reach you',
    preChatStart: 'Start chat',
    fieldName: 'Name',
    fieldEmail: 'Email',
    fieldPhone: 'Phone',
  },
};

export type Lang = keyof typeof strings;
export type Strings = (typeof strings)['en'];

export function pickLang(requested: string | null, browser: string): Lang {
  const wanted = (requested ?? browser).toLowerCase();
  return wanted.startsWith('zh') ? 'zh-CN' : 'en';
}

export function t(lang: Lang): Strings {
  return strings[lang];
}
